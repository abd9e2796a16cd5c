;; Spins forever on float arithmetic: under the JIT it runs in a kernel FPU
;; section, which must end at every slice so the task can be preempted,
;; signalled and killed.
(module
  (func (export "_start")
    (local f64)
    (loop
      (local.set 0 (f64.add (f64.mul (local.get 0) (f64.const 0.5)) (f64.const 1.25)))
      (br 0))))
