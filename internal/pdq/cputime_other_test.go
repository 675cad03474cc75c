//go:build !linux

package pdq

import "time"

// threadCPU is unavailable here; latencies fall back to wall time.
func threadCPU() time.Duration { return 0 }

// processCPU is unavailable here.
func processCPU() time.Duration { return 0 }
