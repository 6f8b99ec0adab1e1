import sys

from dextcore.cli import main

sys.exit(main())
