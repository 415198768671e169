"""The shop database the look-up actions read, one module per job: `schema` (tables), `records` (rows as
dataclasses), `queries` (read functions), `normalise` (customer input to keys), `demo_data` (the demo
orders) and `seed` (`python -m actions.shop.seed`)."""
