package version

// Version is rayflow's version, "0.1.0" unless the linker set another.
var Version = "0.1.0"
