"""Data files shipped with kerasnet (see README.md here for their sources and licences)."""
