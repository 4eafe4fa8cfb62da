import sys

from vae_cli.cli import main

sys.exit(main())
