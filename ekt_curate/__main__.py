from ekt_curate.cli import main

raise SystemExit(main())
