"""`python -m efficiency ...`"""

import sys

from efficiency.cli import main

sys.exit(main())
