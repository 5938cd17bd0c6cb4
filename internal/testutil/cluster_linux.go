package testutil

import "syscall"

// childAttr makes a cluster process die with the test binary, so that a
// test killed by -timeout leaves no node running behind it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
