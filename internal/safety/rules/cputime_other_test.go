//go:build !unix

package rules

import "time"

// processCPU is unavailable here; the CPU metrics report 0.
func processCPU() time.Duration { return 0 }
