import Commands
import Glibc
exit(CLI.main())
