"""{{ cookiecutter.project_name }}: process every data unit independently and resumably."""

__version__ = "0.1.0"
