"""`h5press api`: the collaboration server (optional extra `h5press[api]`).

It reads the same campaign.yaml models as the build and enforces on the server what the browser
only previews: points and caps, the campaign window, badges, levels, votes, teams, leaderboards,
rewards and lottery draws. It also stores visitor analytics from pages (`analytics`), which
`h5press report` reads.

Its modules are in layers, and each imports only its own layer and the ones below: `errors`
(imports nothing of h5press); foundations without database or web (`settings`, `rules`,
`identity`, …); storage (`db`, `migrations`, `changes`); domain (`members`, `teams`, `ledger`,
`boards`, `rewards`, `lottery`, `stream`, …); web (`state`, `app`, and the `routes` that only
`app` imports). tests/test_layers.py holds the full list and checks it.
"""
