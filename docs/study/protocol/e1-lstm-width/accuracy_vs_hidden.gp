set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_hidden.png"
set title "copy-memory: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "hidden"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [51.2:320]
set xtics ("64" 64, "128" 128, "256" 256)
plot '-' using 1:2:3:4 with yerrorlines title "lstm-chrono" lw 2 lc 1, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
64 0 0 0
128 0 0 0
256 0 0 0
e
64 0
64 0
64 0
64 0
64 0
128 0
128 0
128 0
128 0
128 0
256 0
256 0
256 0
256 0
256 0
e
64 9.313225746154793e-10
128 9.313225746154793e-10
256 9.313225746154793e-10
e
