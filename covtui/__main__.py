"""`python -m covtui` runs the command line."""

from covtui.cli import main

main()
