"""The composition root: the one package that imports every layer and assembles them into a running server."""
