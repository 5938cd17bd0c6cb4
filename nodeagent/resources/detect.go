package resources

import (
	"fmt"
	"runtime"

	"github.com/shirou/gopsutil/v4/mem"
)

// Detect returns the totals of this machine: its logical cpus, its total
// memory (read with gopsutil) and no gpus. A node uses it when neither
// --cpus nor --resources is given.
//
// The cpu count is runtime.NumCPU, the logical cpus this process may run on
// (it honours the affinity mask, which gopsutil's count does not), and it
// needs no extra module: gopsutil's cpu package pulls in
// github.com/tklauser/go-sysconf, which go.mod does not list.
func Detect() (Resources, error) {
	vm, err := mem.VirtualMemory()
	if err != nil {
		return Resources{}, fmt.Errorf("detect memory: %w", err)
	}
	total := int64(min(vm.Total, uint64(MaxMemory)))
	return Resources{cpu: int64(runtime.NumCPU()) * Milli, memory: total}, nil
}
