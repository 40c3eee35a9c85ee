from asr.upgrade import main

raise SystemExit(main())
