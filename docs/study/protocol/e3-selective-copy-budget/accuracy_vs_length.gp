set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_length.png"
set title "selective-copy: test sequence accuracy\npoints: mean over 3 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "length"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [51.2:80]
set xtics ("64" 64)
plot '-' using 1:2:3:4 with yerrorlines title "gpt" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "mamba" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "mamba-lti" lw 2 lc 3, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
64 0.8966666666666666 0.8526666666666666 0.932
e
64 0 0 0
e
64 0 0 0
e
64 0.91
64 0.93
64 0.85
e
64 0
64 0
64 0
e
64 0
64 0
64 0
e
64 5.42101086242753e-20
e
