"""The collections sidebar of the main screen: collections -> requests as a tree, beside the tabs."""
