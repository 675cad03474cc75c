//go:build !unix

package campaign

import "time"

// processCPU is unavailable here; the CPU metrics report 0.
func processCPU() time.Duration { return 0 }
