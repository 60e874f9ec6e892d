"""What the API reads: published snapshots of the warehouse and orders received live."""
