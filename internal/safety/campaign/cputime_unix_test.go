//go:build unix

package campaign

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the whole process has used so far (all
// threads, garbage collection included). On a shared machine it measures
// the work a benchmark did without the time it waited for a CPU.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
