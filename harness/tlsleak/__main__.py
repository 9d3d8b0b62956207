import sys

from tlsleak.cli import main

sys.exit(main())
