import HTTP

/// The site's one stylesheet, its one script and its icon, served by the server itself (no third-party resources).
/// The script only adds copy buttons: every page works without it.
enum Stylesheet {
    static let path = "/assets/mcpctl.css"
    static let scriptPath = "/assets/copy.js"
    static let iconPath = "/assets/icon.svg"

    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2433"/><path d="M7 23V10h3l6 7 6-7h3v13h-3v-8l-6 7-6-7v8z" fill="#fff"/></svg>
        """

    static let css = """
        :root{--fg:#1d1f23;--muted:#50555e;--bg:#f4f5f7;--card:#fff;--line:#d5d8de;--accent:#1f5fd6;--danger:#b3261e;--ok:#1e6b35}
        *{box-sizing:border-box}
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg);margin:0;line-height:1.45}
        header.site{background:#1d2433;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:center}
        header.site a{color:#fff;margin-right:.8rem}header.site .who{margin-left:auto;font-size:.9rem}
        header.site form{margin:0}header.site button{margin:0;padding:.3rem .7rem;font-size:.9rem}
        main{max-width:68rem;margin:1.2rem auto;padding:0 1rem}
        main.narrow{max-width:26rem;margin-top:3rem}
        section,.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem 1.2rem;margin:0 0 1.2rem}
        h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .8rem}h3{font-size:1rem;margin:1rem 0 .5rem}
        a{color:var(--accent)}
        a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f2b705;outline-offset:2px}
        label{font-weight:600}
        .field{margin:.6rem 0}.field label{display:block;margin-bottom:.2rem}
        input[type=email],input[type=password],input[type=text],select{width:100%;max-width:24rem;padding:.5rem;border:1px solid #8a909a;border-radius:6px;font-size:1rem;background:#fff;color:var(--fg)}
        fieldset{border:1px solid var(--line);border-radius:6px;margin:.6rem 0;padding:.4rem .8rem}
        legend{font-weight:600;padding:0 .3rem}
        .check{display:flex;gap:.5rem;align-items:center;font-weight:normal;margin:.3rem 0}
        button{font-size:1rem;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;margin:.4rem .4rem 0 0}
        button.secondary{background:#fff;color:var(--accent)}
        button.danger{background:var(--danger);border-color:var(--danger);color:#fff}
        table{border-collapse:collapse;width:100%;font-size:.93rem}
        th,td{text-align:left;padding:.45rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
        th{font-weight:600;color:var(--muted)}
        td form{display:inline}td button{margin:0 .3rem .2rem 0;padding:.25rem .6rem;font-size:.85rem}
        td select{width:auto;padding:.2rem;font-size:.85rem}
        .table{overflow-x:auto}
        code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef0f3;border-radius:4px}
        code{padding:.05rem .3rem;word-break:break-all}
        pre{padding:.7rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
        .secret{display:block;font-size:1.05rem;padding:.6rem;border:2px dashed var(--ok);background:#effaf1}
        .notice{background:#fff4e5;border:1px solid #c77c02;padding:.6rem .8rem;border-radius:6px}
        .success{background:#effaf1;border:1px solid var(--ok);padding:.6rem .8rem;border-radius:6px}
        .muted{color:var(--muted);font-size:.9rem}.empty{color:var(--muted);font-style:italic}
        .badge{font-size:.78rem;background:#e6e8ec;border-radius:4px;padding:.05rem .35rem;color:#333}
        .deny{color:var(--danger);font-weight:600}.allow{color:var(--ok)}
        nav.sub{display:flex;flex-wrap:wrap;gap:.4rem 1rem;margin:0 0 1rem}
        @media (max-width:40rem){th.opt,td.opt{display:none}main{padding:0 .5rem}section{padding:.8rem}}
        """

    static let script = """
        document.querySelectorAll("button[data-copy]").forEach(function (button) {
          var source = document.getElementById(button.getAttribute("data-copy"));
          if (!source || !navigator.clipboard) return;
          button.hidden = false;
          button.addEventListener("click", function () {
            navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = "Copied"; });
          });
        });
        """

    /// The stylesheet or script at `path`, or nil for any other path.
    static func asset(_ path: String) -> HTTPResponse? {
        let body: String, type: String
        switch path {
        case Stylesheet.path: (body, type) = (css, "text/css; charset=utf-8")
        case Stylesheet.scriptPath: (body, type) = (script, "text/javascript; charset=utf-8")
        case Stylesheet.iconPath: (body, type) = (icon, "image/svg+xml")
        default: return nil
        }
        var r = HTTPResponse.text(body)
        r.headers["Content-Type"] = type
        r.headers["Cache-Control"] = "public, max-age=3600"
        r.headers["X-Content-Type-Options"] = "nosniff"
        return r
    }
}
