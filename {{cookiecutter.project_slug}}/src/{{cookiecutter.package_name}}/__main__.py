"""``python -m {{ cookiecutter.package_name }}`` runs the command line."""

import sys

from .cli import main

sys.exit(main())
