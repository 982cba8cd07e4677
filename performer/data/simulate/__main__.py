"""``python -m performer.data.simulate``: runs :func:`performer.data.simulate.cli.main`."""

import sys

from performer.data.simulate.cli import main

if __name__ == "__main__":
    sys.exit(main())
