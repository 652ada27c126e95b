"""`python -m datagen.cli` is the `datagen` command."""

from datagen.cli import main

if __name__ == "__main__":
    main()
