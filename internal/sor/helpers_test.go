package sor

import "time"

var zeroTime time.Time

func timeParse(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }
