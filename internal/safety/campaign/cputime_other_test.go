//go:build !unix

package campaign

import "time"

// processCPU and machineBusy are unavailable here; the CPU metrics report 0.
func processCPU() time.Duration { return 0 }

func machineBusy() time.Duration { return 0 }
