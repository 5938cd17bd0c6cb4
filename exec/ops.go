package exec

// futureAsValue is the error for a future used where a value is needed.
func futureAsValue(v Value) *Error {
	return Errorf(KindType, "a future (%s) was used as a value; call get() to wait for its result", v.AsFuture().Name)
}
