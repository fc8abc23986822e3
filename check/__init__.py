"""`h5press check`: render every page on a matrix of phone profiles and report what breaks."""
