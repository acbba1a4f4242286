from svrlens.cli import main

raise SystemExit(main())
