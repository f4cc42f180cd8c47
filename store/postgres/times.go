package postgres

import (
	"reflect"
	"sync"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// normTimes moves every time.Time reachable from v (a pointer) to UTC at
// microsecond precision, the precision of timestamptz, so a value stored
// as JSON reads back equal to its indexed columns. It changes v in place:
// call it on a copy of the caller's value.
func normTimes(v any) {
	normValue(reflect.ValueOf(v))
}

func normValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(utc(v.Interface().(time.Time))))
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				normValue(f)
			}
		}
	case reflect.Slice, reflect.Array:
		if !hasTime(v.Type().Elem()) {
			return
		}
		for i := range v.Len() {
			normValue(v.Index(i))
		}
	case reflect.Map:
		if !hasTime(v.Type().Elem()) {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			e := reflect.New(iter.Value().Type()).Elem()
			e.Set(iter.Value())
			normValue(e)
			v.SetMapIndex(iter.Key(), e)
		}
	}
}

// timeful caches hasTime by type.
var timeful sync.Map // reflect.Type → bool

// hasTime reports whether values of type t may hold a time.Time.
func hasTime(t reflect.Type) bool {
	if v, ok := timeful.Load(t); ok {
		return v.(bool)
	}
	has := findTime(t, map[reflect.Type]bool{})
	timeful.Store(t, has)
	return has
}

// findTime reports whether values of type t may hold a time.Time; seen
// stops the walk on recursive types.
func findTime(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && findTime(f.Type, seen) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return findTime(t.Elem(), seen)
	case reflect.Interface:
		return true
	}
	return false
}

// utc returns t in UTC at microsecond precision.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
