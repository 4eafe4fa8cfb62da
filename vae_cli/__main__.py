import sys

from vae_cli.cli.main import main

sys.exit(main())
