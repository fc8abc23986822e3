"""`h5press report`: campaign figures (visitors, dwell, shares, funnel, experiments) from the API's
`analytics` table or its newline-delimited JSON export, computed in DuckDB, written as report.json,
one self-contained index.html and CSV files."""
