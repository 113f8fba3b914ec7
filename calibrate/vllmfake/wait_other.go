//go:build !linux

package vllmfake

import "time"

func waitPidfd(int, time.Duration) (gone, ok bool) { return false, false }

func zombie(int) bool { return false }
