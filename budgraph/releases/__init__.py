"""Engine releases: importers that read a published release artifact and return what its code declares."""
