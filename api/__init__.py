"""`h5press api`: the collaboration server (optional extra `h5press[api]`).

It reads the same campaign.yaml models as the build and enforces on the server what the browser
only previews: points and caps, the campaign window, badges, levels, votes, teams, leaderboards,
rewards and lottery draws.
"""
