//go:build !linux

package main

import "syscall"

// childAttr is nil where processes cannot be tied to their parent's life.
func childAttr() *syscall.SysProcAttr { return nil }
