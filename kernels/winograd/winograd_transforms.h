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

// A separable 2-D transform: `f` (6 values in, N out) down every column of `in`, then along
// every row of the result.
template <int N, class T, class F>
inline void separable_2d(const T in[6][6], T out[N][N], F f) {
  T cols[N][6];
  for (int j = 0; j < 6; ++j) {
    T col[6], r[N];
    for (int i = 0; i < 6; ++i) col[i] = in[i][j];
    f(col, r);
    for (int i = 0; i < N; ++i) cols[i][j] = r[i];
  }
  for (int i = 0; i < N; ++i) f(cols[i], out[i]);
}

// B^T d B: a 6x6 input tile in the transform domain.
template <class T, class Mul>
inline void input_2d(const T d[6][6], T v[6][6], Mul mul) {
  separable_2d<6>(d, v, [&](const T *x, T *r) { input_1d(x, r, mul); });
}

// A^T m A: the 6x6 products of a tile back to its 4x4 outputs.
template <class T, class Mul>
inline void output_2d(const T m[6][6], T y[4][4], Mul mul) {
  separable_2d<4>(m, y, [&](const T *x, T *r) { output_1d(x, r, mul); });
}

}  // namespace xunit::kernels::winograd
