# Prints the fixed vectors of Tests/MCPAuthTests/JOSEVectors.swift: checks the RFC 7515 A.2 and RFC 7520 4.1
# examples with the cryptography package, computes modular powers, and mints RS256 tokens (good, and
# forged with non-canonical PKCS#1 v1.5 encodings a lenient verifier would accept) with a fresh key.
import base64, json, hashlib, hmac, random
from cryptography.hazmat.primitives.asymmetric import rsa, padding
from cryptography.hazmat.primitives import hashes, serialization
def b64d(s): return base64.urlsafe_b64decode(s + '='*(-len(s)%4))
def b64e(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def i(b): return int.from_bytes(b,'big')
# check RFC vectors
A2_n='ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ'
A2_tok='eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw'
R20_n='n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw'
R20_tok='eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg'
for n, tok in [(A2_n, A2_tok), (R20_n, R20_tok)]:
    pub = rsa.RSAPublicNumbers(65537, i(b64d(n))).public_key()
    h, p, s = tok.split('.')
    pub.verify(b64d(s), (h+'.'+p).encode(), padding.PKCS1v15(), hashes.SHA256())
    print("// verified", tok[:20])
rng = random.Random(7)
# modexp vectors
print("// modexp vectors: (base, exponent, modulus, result) hex")
for bits in [64, 127, 1024, 2048, 3072]:
    m = rng.getrandbits(bits) | 1 | (1 << (bits-1))
    b = rng.getrandbits(bits) % m
    for e in [0, 1, 3, 65537, rng.getrandbits(bits)]:
        print(f'("{b:x}", "{e:x}", "{m:x}", "{pow(b,e,m):x}"),')
# a fresh key for JWT tests and lenient-parsing forgeries
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pn = key.public_key().public_numbers(); n, e = pn.n, pn.e; d = key.private_numbers().d
k = 256
print('KEY_N = "%s"' % b64e(n.to_bytes(k,'big')))
pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
print('PEM = """%s"""' % pem.decode())
def sign_raw(em): return pow(i(em), d, n).to_bytes(k, 'big')
def token(header, claims, raw_em=None):
    h = b64e(json.dumps(header, separators=(',',':')).encode()); p = b64e(json.dumps(claims, separators=(',',':')).encode())
    si = (h+'.'+p).encode()
    sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256()) if raw_em is None else sign_raw(raw_em(hashlib.sha256(si).digest()))
    return h+'.'+p+'.'+b64e(sig)
claims = {"iss":"https://issuer.example","aud":"https://mcp.example/mcp/a/prod","exp":2000000000,"iat":1700000000,"email":"ann@example.com","scope":"read write"}
hdr = {"alg":"RS256","typ":"at+jwt","kid":"k1"}
print('GOOD = "%s"' % token(hdr, claims))
prefix = bytes.fromhex('3031300d060960864801650304020105000420')
def em_nonull(hh):  # DigestInfo without the NULL parameters
    t = bytes.fromhex('302f300b0609608648016503040201') + bytes([4,32]) + hh
    return b'\x00\x01' + b'\xff'*(k-len(t)-3) + b'\x00' + t
def em_garbage(hh):  # short padding, garbage after the digest
    t = prefix + hh
    return b'\x00\x01' + b'\xff'*8 + b'\x00' + t + bytes(k - 11 - len(t))
def em_bt2(hh):
    t = prefix + hh
    return b'\x00\x02' + b'\xff'*(k-len(t)-3) + b'\x00' + t
def em_short_ps(hh):  # padding shorter than 8 octets with leading zeros before 0x00 0x01
    t = prefix + hh
    return bytes(k - len(t) - 4) + b'\x00\x01\xff\x00' + t
for name, f in [("NO_NULL", em_nonull), ("GARBAGE", em_garbage), ("BT2", em_bt2), ("SHORT_PS", em_short_ps)]:
    print('%s = "%s"' % (name, token(hdr, claims, f)))
hs_h = b64e(json.dumps({"alg":"HS256","typ":"JWT","kid":"k1"}).encode()); hs_p = b64e(json.dumps(claims).encode())
print('HS = "%s"' % (hs_h+'.'+hs_p+'.'+b64e(hmac.new(pem, (hs_h+'.'+hs_p).encode(), hashlib.sha256).digest())))
# 1024-bit key padded with a zero octet to 256 bytes
small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers().n
print('SMALL_N_PADDED = "%s"' % b64e(small.to_bytes(256,'big')))
