set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_pairs-length.png"
set title "mqar: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "pairs:length"
set ylabel "sequence accuracy"
set grid
set key outside right
set yrange [0:1.02]
set xrange [-0.5:1.5]
set xtics ("4:64" 0, "8:128" 1)
plot '-' using 1:2:3:4 with yerrorbars title "gpt-d128" lw 2 lc 1, '-' using 1:2:3:4 with yerrorbars title "gru-h128" lw 2 lc 2, '-' using 1:2:3:4 with yerrorbars title "lstm-chrono-h128" lw 2 lc 3, '-' using 1:2:3:4 with yerrorbars title "mamba-d128" lw 2 lc 4, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
-0.12 0.0008 0 0.0032
0.88 0 0 0
e
-0.039999999999999994 0 0 0
0.96 0 0 0
e
0.04000000000000001 0 0 0
1.04 0 0 0
e
0.12000000000000001 0 0 0
1.12 0 0 0
e
-0.12 0
-0.12 0.004
-0.12 0
-0.12 0
-0.12 0
0.88 0
0.88 0
0.88 0
0.88 0
0.88 0
e
-0.039999999999999994 0
-0.039999999999999994 0
-0.039999999999999994 0
-0.039999999999999994 0
-0.039999999999999994 0
0.96 0
0.96 0
0.96 0
0.96 0
0.96 0
e
0.04000000000000001 0
0.04000000000000001 0
0.04000000000000001 0
0.04000000000000001 0
0.04000000000000001 0
1.04 0
1.04 0
1.04 0
1.04 0
1.04 0
e
0.12000000000000001 0
0.12000000000000001 0
0.12000000000000001 0
0.12000000000000001 0
0.12000000000000001 0
1.12 0
1.12 0
1.12 0
1.12 0
1.12 0
e
0 2.383776952317141e-10
1 6.054133570434683e-20
e
