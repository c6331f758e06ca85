"""`python -m livecli`."""

from livecli.cli.app import main

if __name__ == "__main__":
    main()
