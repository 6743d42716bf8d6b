"""Reports: views of the gradebook, plots, feedback pages, exports and translations."""
