"""`h5press deploy`: publish dist/ to S3-compatible object storage in an order that never leaves
the live site referencing what is not there yet, and incrementally.

`local` says what dist/ publishes, `plan` decides what to do (pure), `storage` speaks S3 and
`command` runs the plan.
"""
