// The F(4x4, 3x3) transforms (Lavin & Gray 2016, interpolation points 0, 1, -1, 2, -2, inf),
// written once for any value type with + - * (float, or a SIMD vector wrapper): every variant
// and the scalar reference compute the same sums in the same order.
#pragma once

namespace xunit::kernels::winograd {

// B^T d for a column or row of 6 input values.
template <class T, class Mul>
inline void input_1d(const T d[6], T r[6], Mul mul) {
  r[0] = mul(4.f, d[0]) - mul(5.f, d[2]) + d[4];
  r[1] = d[3] + d[4] - mul(4.f, d[1] + d[2]);
  r[2] = d[4] - d[3] + mul(4.f, d[1] - d[2]);
  r[3] = d[4] - d[2] + mul(2.f, d[3] - d[1]);
  r[4] = d[4] - d[2] + mul(2.f, d[1] - d[3]);
  r[5] = mul(4.f, d[1]) - mul(5.f, d[3]) + d[5];
}

// A^T m for a column or row of 6 transformed products: 4 outputs.
template <class T, class Mul>
inline void output_1d(const T m[6], T o[4], Mul mul) {
  const T s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  o[0] = m[0] + s12 + s34;
  o[1] = d12 + mul(2.f, d34);
  o[2] = s12 + mul(4.f, s34);
  o[3] = d12 + mul(8.f, d34) + m[5];
}

}  // namespace xunit::kernels::winograd
