from ssl_kit.cli import main

raise SystemExit(main())
