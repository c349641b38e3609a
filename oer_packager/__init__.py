"""IMS Common Cartridge building, reading and validation. No Flask imports."""
