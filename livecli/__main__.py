"""`python -m livecli`."""

from livecli.cli import main

if __name__ == "__main__":
    main()
