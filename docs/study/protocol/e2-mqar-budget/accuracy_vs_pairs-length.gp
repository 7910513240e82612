set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_pairs-length.png"
set title "mqar: test sequence accuracy\npoints: mean over 3 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "pairs:length"
set ylabel "sequence accuracy"
set grid
set key outside right
set yrange [0:1.02]
set xrange [-0.5:1.5]
set xtics ("4:64" 0, "8:128" 1)
plot '-' using 1:2:3:4 with yerrorbars title "gpt-d64" lw 2 lc 1, '-' using 1:2:3:4 with yerrorbars title "gru-h64" lw 2 lc 2, '-' using 1:2:3:4 with yerrorbars title "mamba-d64" lw 2 lc 3, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
-0.08 0.9819999999999999 0.9733333333333333 0.9899999999999999
0.92 0 0 0
e
0 0 0 0
1 0 0 0
e
0.08 0 0 0
1.08 0 0 0
e
-0.08 0.98
-0.08 0.988
-0.08 0.978
0.92 0
0.92 0
0.92 0
e
0 0
0 0
0 0
1 0
1 0
1 0
e
0.08 0
0.08 0
0.08 0
1.08 0
1.08 0
1.08 0
e
0 2.383776952317141e-10
1 6.054133570434683e-20
e
