"""The compliance gate: rules (YAML data or Python checks) read over the text visitors see,
waivers, approvals and the per-campaign report."""
