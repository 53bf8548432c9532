"""Point of sale: registers, shifts with their cash drawer, counter sales and endless-aisle orders taken at
the till (the orders themselves are the orders package's)."""
