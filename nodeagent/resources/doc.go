// Package resources is the resource vector of rayflow: how much cpu, gpu,
// memory and custom named resources a node has, has free, or a task needs.
//
// Quantities are fixed-point integers, so that half a cpu is representable
// and a long run of Add and Sub never drifts the way float64 sums do:
//
//   - cpu, gpu and every custom resource are counted in milli-units
//     (1000 = one cpu, 500 = half a cpu);
//   - memory is counted in whole bytes. Bytes are already an integer unit;
//     milli-bytes would only shrink the range of an int64 to 8 PiB per sum.
//
// Both are called the "internal unit" of a resource below. Parsing (ParseSpec,
// ParseQuantity, ParseMemory, FromMap) caps a single quantity at 10^9 units
// or 2^53 bytes, so that a sum over a large cluster cannot overflow, and the
// JSON form (floats) is exact. Add saturates rather than wraps all the same.
//
// A Resources value is immutable: every method returns a new value and never
// changes the receiver or its argument, so values can be shared between
// goroutines and copied freely.
//
// # Ownership and threading
//
// The package owns no state: its one package-level variable, the table
// of misspelled names (misspelled), is only read. A Resources' custom
// quantities live in a slice built once (by the unexported builder or
// normalize) and never written again, so copies that share it are
// safe on any goroutine; the one method with a pointer receiver,
// UnmarshalJSON, replaces the whole value it decodes into, as any
// assignment does. Detect reads the machine (runtime.NumCPU and
// gopsutil's memory) each time it is called.
//
// Whoever holds a Resources (a node's totals, a task's demand, a
// placement.NodeState) guards the variable that holds it, never the
// value: a node's free resources under Node.mu (package nodeagent), a
// member's latest report under Membership.mu (nodeagent/head).
//
// Consumers: nodeagent (node totals and demands, Detect when neither
// --cpus nor --resources is given), nodeagent/head, placement,
// nodeagent/wire (place requests) and cmd/rayflow (the --resources
// and memory flags). It imports only internal/bytesize and gopsutil.
package resources
