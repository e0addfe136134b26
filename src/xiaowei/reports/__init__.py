"""Reports (报表): charts and printable views built from the domain; nothing here books a loan."""
